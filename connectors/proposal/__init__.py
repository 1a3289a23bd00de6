"""The mapping assistant: propose a connector profile for an upload that does not match.

``propose`` (engine) returns a typed ``Proposal`` (result); ``corrected`` and
``to_profile`` (profile_build) turn it, with the steward's corrections, into a profile;
``services`` saves it (permission-checked, audited); ``choice`` picks the profile of a
batch by its header signature (sample). See docs/CONNECTORS.md.
"""
