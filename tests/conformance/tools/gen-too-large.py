#!/usr/bin/env python3
"""Writes rulesets/invalid/42-document-too-large.json: a rule set over FlexMatch's
65,535-character limit, made the way it happens in practice (a pasted list of map ids).

Run from tests/conformance: python3 tools/gen-too-large.py
"""

ids = [f'"workshop-map-{i:05}"' for i in range(3000)]
rows = ",\n        ".join(", ".join(ids[i : i + 6]) for i in range(0, len(ids), 6))
text = f"""{{
  "name": "document_too_large",
  "ruleLanguageVersion": "1.0",
  "playerAttributes": [
    {{ "name": "installedMaps", "type": "string_list", "default": [] }}
  ],
  "teams": [
    {{ "name": "lobby", "minPlayers": 2, "maxPlayers": 8 }}
  ],
  "rules": [
    {{
      "name": "HasApprovedMap",
      "type": "collection",
      "operation": "reference_intersection_count",
      "measurements": "flatten(teams[*].players.attributes[installedMaps])",
      "referenceValue": [
        {rows}
      ],
      "minCount": 1
    }}
  ]
}}
"""
assert len(text) > 65_535, len(text)
with open("rulesets/invalid/42-document-too-large.json", "w") as f:
    f.write(text)
print(len(text), "characters")
