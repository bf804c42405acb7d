"""N-of-1 in the clinic: one patient's blinded LDN-vs-placebo trial, run by her physician."""
