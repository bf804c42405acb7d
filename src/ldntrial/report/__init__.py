"""Reports: self-contained HTML (and PDF through Chromium) from a TrialData and its analyses."""
