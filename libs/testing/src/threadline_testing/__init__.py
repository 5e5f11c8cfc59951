"""pytest fixtures shared by every Threadline package."""
