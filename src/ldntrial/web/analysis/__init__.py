"""Database lock, the locked snapshot as a TrialData, and its unblinding for analysis."""
