"""Threadline's chaos drills: the Chaos Toolkit actions, probes and controls they call."""
