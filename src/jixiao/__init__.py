"""Jixiao (绩效): performance appraisal platform."""
