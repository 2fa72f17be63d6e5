"""Reddening and distances of young clusters: bulge-clump foreground, upper main sequence, tenth-brightest star."""
