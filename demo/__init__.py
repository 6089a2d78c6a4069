"""Demo data for trying the hotline (`flask demo ...`); never part of a real deployment's records."""
