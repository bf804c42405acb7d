"""Staff pages. Every view checks the user's access to the study and the site on the server.

A study the user has no role in, or an object at a site she cannot see, is a
404 (its existence is not confirmed); a permitted study but a forbidden action
is a 403. No view for a blinded role reads an allocation (BLD-1). One module
per area: dashboard, screening, participants, pharmacy, audit.
"""
