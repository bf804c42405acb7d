"""Django settings, all read from the environment by :func:`ldntrial.web.config.read_config`."""

from __future__ import annotations

from datetime import timedelta

from csp.constants import NONE, SELF

from ldntrial.web.config import read_config

CONFIG = read_config()

BASE_DIR = CONFIG.data_dir
SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = CONFIG.allowed_hosts

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "ldntrial.web.accounts",
    "ldntrial.web.audit",
    "ldntrial.web.studies",
    "ldntrial.web.trial",
    "ldntrial.web.diary",
    "ldntrial.web.analysis",
    "ldntrial.web.nof1",
    "ldntrial.web.quality",
    "ldntrial.web.staff",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ldntrial.web.nul.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "ldntrial.web.accounts.middleware.SecondFactorMiddleware",
    "ldntrial.web.staff.middleware.AuditReasonMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy on every page (SEC-WF): only this site's own scripts, styles
# and connections, so a value that slipped past escaping could not run or send data
# elsewhere. Pages with a stricter policy of their own (a report) keep theirs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

ROOT_URLCONF = "ldntrial.web.urls"
WSGI_APPLICATION = "ldntrial.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ldntrial.web.staff.navigation.navigation",
            ]
        },
    }
]

DATABASES = {"default": CONFIG.database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Lockout after repeated failures (django-axes; standards.md §3.1, SIG-5): five wrong
# passwords for one username from one address lock that pair for 30 minutes.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
# Per browser for her known browsers, per address and per account otherwise; the address
# read through LDNTRIAL_TRUSTED_PROXIES (web/accounts/lockout.py).
AXES_LOCKOUT_PARAMETERS = "ldntrial.web.accounts.lockout.lockout_parameters"
AXES_CLIENT_IP_CALLABLE = "ldntrial.web.accounts.lockout.client_address"
LDNTRIAL_TRUSTED_PROXIES = CONFIG.trusted_proxies
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Argon2id first (OWASP ASVS 5.0, 6.2; standards.md §3.1); the others only verify old hashes.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The participant's diary speaks these (ldntrial/web/diary/strings.py); staff pages English.
LANGUAGES = [("en", "English"), ("es", "Español")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# The second factor (django-otp TOTP; standards.md SEC-AU-4): optional per user, or
# required of every staff user with LDNTRIAL_REQUIRE_TOTP=true.
OTP_TOTP_ISSUER = "ldntrial"
LDNTRIAL_REQUIRE_TOTP = CONFIG.require_totp
# The address participants reach the site at, for the links in reminders.
LDNTRIAL_SITE_URL = CONFIG.site_url
LDNTRIAL_EXPORT_KEY = CONFIG.export_key
# Seals the audit trail (web/audit/sealing.py); kept outside the database.
LDNTRIAL_AUDIT_KEY = CONFIG.audit_key

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "staff:studies"
LOGOUT_REDIRECT_URL = "login"

STATIC_URL = "static/"
STATIC_ROOT = CONFIG.data_dir / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # collectstatic fills it in production
# whitenoise serves static files from gunicorn; outside production it also finds them
# in the apps, so `ldntrial serve` needs no collectstatic step.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if CONFIG.production
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not CONFIG.production

# Sessions end with the browser and after 30 minutes idle (standards.md §3.2).
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if CONFIG.production:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Notices (a serious adverse event, an unblinding) and the N-of-1 kit list go by email.
# Outside production they are written as files to the data folder's sent-email/, so that
# nothing leaves the machine and nothing lands in the server's log: a kit list names each
# bottle's contents, and a log is no place for what a blinded person must not see.
DEFAULT_FROM_EMAIL = CONFIG.email_from
if CONFIG.production:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    # From LDNTRIAL_EMAIL_URL; without it, the machine's own mail server.
    EMAIL_HOST = CONFIG.email.get("EMAIL_HOST", "localhost")
    EMAIL_PORT = CONFIG.email.get("EMAIL_PORT", 25)
    EMAIL_HOST_USER = CONFIG.email.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = CONFIG.email.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_SSL = CONFIG.email.get("EMAIL_USE_SSL", False)
    EMAIL_USE_TLS = CONFIG.email.get("EMAIL_USE_TLS", False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = CONFIG.data_dir / "sent-email"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
