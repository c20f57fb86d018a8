"""Evidence pages (GOV.UK / MOJ style): crime batches and match review for police and analysts,
weekly overviews, evidence packs and trail exports for officers, programme statistics.

Every page that shows or hands out a trail, a match, an overview or a pack asks for a stated
reason first (a short form), and the use case audits it with that reason. Links that carry on
from a form (e.g. after running a match) carry the same reason, so the log reads as one request.
"""
