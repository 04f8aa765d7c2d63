"""Informational calls and appointments: coordinator availability, booking, reminders and
calendar invites."""
