"""Domain functions shared by the IVR, the console, the API and the commands."""
