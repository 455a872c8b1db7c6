from django.db import migrations

CARERS = ["satellite_carer", "hub_carer", "both"]
WORKERS = ["social_worker", "birth_parents", "liaison_worker"]

CATALOGUE = [
    # code, label, counts nights, allowed holders (empty: any)
    ("overnight_hub_planned", "Overnight stay at the hub home (planned)", True, []),
    ("stay_hub_short_notice", "Short-notice or crisis stay at the hub home", True, []),
    ("stay_hub_extended", "Extended stay at the hub home (temporary placement)", True,
     ["social_worker", "liaison_worker"]),
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


def seed(apps, schema_editor):
    Decision = apps.get_model("delegated_authority", "Decision")
    for position, (code, label, nights, holders) in enumerate(CATALOGUE, start=1):
        Decision.objects.update_or_create(
            code=code,
            defaults={
                "label": label,
                "counts_nights": nights,
                "allowed_holders": holders,
                "position": position * 10,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("delegated_authority", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
