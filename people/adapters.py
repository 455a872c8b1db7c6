from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """No self-sign-up: accounts are created or invited by a liaison worker or an
    administrator."""

    def is_open_for_signup(self, request) -> bool:
        return False
