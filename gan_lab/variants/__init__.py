"""Worked examples of extending gan_lab: each variant is this one file plus one YAML in configs/loss/."""
