# The id is CATALOG|PRINCIPAL|KEY=V1,V2;KEY2=V3 (keys and values in any order; `%`, `|`, `;`,
# `=` and `,` inside a key or value are written %25, %7C, %3B, %3D, %2C). Quote it for the shell.
terraform import mesh_tag_grant.analytics '111111111111|arn:aws:iam::111111111111:role/AnalyticsTeam|domain=commerce;sensitivity=internal,public'
