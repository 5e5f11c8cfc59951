"""Run Threadline's third-party servers as local processes, without Docker."""
