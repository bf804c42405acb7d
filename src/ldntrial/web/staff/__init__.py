"""The staff pages: sign-in, studies, dashboard, screening and enrolment."""
