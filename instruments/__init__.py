"""instruments: PyVISA drivers for the bench's lab instruments and the MX64 board (never imports sim_chip)."""
