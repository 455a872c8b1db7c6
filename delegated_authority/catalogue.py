"""The catalogue of day-to-day decisions a fostering service starts with. An
administrator can add more in the admin; these are put in place by a migration."""

CATALOGUE = [
    # code, label, counts nights, allowed holders (empty: any)
    ("overnight_hub_planned", "Overnight stay at the hub home (planned)", True, []),
    ("stay_hub_short_notice", "Short-notice or crisis stay at the hub home", True, []),
    (
        "stay_hub_extended",
        "Extended stay at the hub home (temporary placement)",
        True,
        ["social_worker", "liaison_worker"],
    ),
    ("transport_hub_carer", "Transport by the hub carer", False, []),
    ("overnight_friends", "Overnight stays with friends", True, []),
    ("medical_routine", "Routine medical and dental care", False, []),
    ("medical_emergency", "Emergency medical treatment", False, []),
    ("school_trips", "School trips", True, []),
    ("haircuts", "Haircuts", False, []),
    ("holidays_uk", "Holidays in the UK", True, []),
    ("holidays_abroad", "Holidays abroad and passports", True, []),
    ("phones_social_media", "Phones and social media", False, []),
    ("birth_family_contact", "Contact with the birth family", False, []),
    ("information_school", "Sharing information with school", False, []),
    ("religious_observance", "Religious observance", False, []),
    ("piercings_tattoos", "Piercings and tattoos", False, ["social_worker", "birth_parents"]),
]


def ensure_catalogue(decision_model) -> None:
    """Create the starting decisions that are missing; leave edited ones alone."""
    for position, (code, label, nights, holders) in enumerate(CATALOGUE, start=1):
        decision_model.objects.get_or_create(
            code=code,
            defaults={
                "label": label,
                "counts_nights": nights,
                "allowed_holders": holders,
                "position": position * 10,
            },
        )
