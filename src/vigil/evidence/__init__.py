"""Evidence: crime matching, weekly movement overviews, signed violation evidence packs,
programme statistics and trail/match exports."""
