"""Unwanted Prisoner Contact Service: public form, cases, prisoner matching, bars, enforcement."""
