"""Batch jobs: bulk import, demo data, maintenance sweeps, backups."""
