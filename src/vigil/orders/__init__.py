"""Orders: versions, conditions, timetables, the monitoring plan, and pilot eligibility."""
