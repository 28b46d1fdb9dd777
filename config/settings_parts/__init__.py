"""The parts of config/settings.py, one per concern, read in the order it lists them.
Each reads its own variables from the environment (config/env.py) and takes what it
needs of an earlier part by name."""
