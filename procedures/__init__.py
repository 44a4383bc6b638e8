"""procedures: write/verify, MAC, characterisation and network routines, the same on real or simulated silicon."""
