"""Clustering-On-Difficulty (Xu et al., ICLR 2026): features, clustering, per-cluster laws, mapping."""
