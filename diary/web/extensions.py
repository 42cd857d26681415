"""Each extension made once; the factory binds them to an app."""

from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.session_protection = None  # the server-side session row does this job
