"""Colour-magnitude analysis: regions and areas, colour sequences, luminosity functions, decontamination."""
