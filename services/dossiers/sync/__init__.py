"""The provincial one-stop system's push and pull: its records read, translated into dossiers and applied."""
