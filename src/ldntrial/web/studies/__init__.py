"""Studies, their sites, and who does what where (roles per study and site)."""
