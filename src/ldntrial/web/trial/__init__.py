"""Running the trial: screening, the concealed allocation list, kits and participants."""
