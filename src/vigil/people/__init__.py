"""People: persons, protected persons, officers and teams, prisons, regions and force areas."""
