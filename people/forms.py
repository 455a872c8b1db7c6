from django.contrib.auth.forms import SetPasswordForm

from constellation.forms import helper


class AcceptInvitationForm(SetPasswordForm):
    """Choose a password to finish an invitation (Django's own validators apply)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "Choose a password"
        self.fields["new_password2"].label = "Type it again"
        self.helper = helper("Set my password")
