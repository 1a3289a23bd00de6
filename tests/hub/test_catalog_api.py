"""The read-only catalog API: departments, resources, Table Schema, DCAT, OpenAPI."""

import pytest


@pytest.fixture
def water_staff(catalog, make_user):
    return make_user("water")


@pytest.fixture
def client_for(api_client):
    def login(user):
        api_client.force_authenticate(user)
        return api_client

    return login


def test_anonymous_gets_no_catalog(catalog, api_client):
    response = api_client.get("/api/v1/resources/")
    assert response.status_code in (401, 403)
    assert "results" not in response.json()


def test_departments_list(catalog, water_staff, client_for):
    response = client_for(water_staff).get("/api/v1/departments/?limit=100")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 15
    codes = {d["code"] for d in body["results"]}
    assert {"emergency", "police", "housing", "water", "weather", "fire", "cityops"} <= codes
    detail = client_for(water_staff).get("/api/v1/departments/weather/").json()
    assert detail == {
        "code": "weather",
        "name": "上海市气象局",
        "short_name": "气象局",
        "description": "气象观测、预报和预警信号发布。",
    }


def test_other_department_sees_shared_metadata_but_not_unshared(catalog, water_staff, client_for):
    body = client_for(water_staff).get("/api/v1/resources/?limit=100").json()
    codes = {r["code"] for r in body["results"]}
    assert "public-security-incidents" not in codes  # 不予共享, provider is police
    assert "fire-incidents" in codes  # 有条件共享: metadata visible to all
    assert body["count"] == 14
    response = client_for(water_staff).get("/api/v1/resources/public-security-incidents/")
    assert response.status_code == 404


def test_provider_sees_its_unshared_resource(catalog, make_user, client_for):
    police = make_user("police")
    response = client_for(police).get("/api/v1/resources/public-security-incidents/")
    assert response.status_code == 200
    body = response.json()
    assert body["sharing_type"] == "none"
    assert body["provider"]["code"] == "police"
    assert [f["name"] for f in body["field_specs"]][:3] == ["case_id", "reported_at", "district"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "provider=housing",
            {
                "gas-pipeline-pressure",
                "gas-leak-alarms",
                "bridge-structural-health",
                "bridge-inventory",
            },
        ),
        ("domain=drainage", {"road-ponding", "pump-station-operation"}),
        (
            "sharing_type=conditional",
            {
                "gas-leak-alarms",
                "bridge-structural-health",
                "pump-station-operation",
                "fire-incidents",
                "hospital-emergency-capacity",
            },
        ),
        ("search=积水", {"road-ponding"}),
        ("provider=police", set()),
    ],
)
def test_resource_filters(catalog, water_staff, client_for, query, expected):
    body = client_for(water_staff).get(f"/api/v1/resources/?limit=100&{query}").json()
    assert {r["code"] for r in body["results"]} == expected


def test_resource_list_query_count_is_constant(
    catalog, water_staff, client_for, django_assert_max_num_queries
):
    client = client_for(water_staff)
    client.get("/api/v1/resources/")  # warm caches of content types etc.
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/resources/?limit=100")
    assert response.json()["count"] == 14


def test_table_schema(catalog, water_staff, client_for):
    response = client_for(water_staff).get("/api/v1/resources/gas-pipeline-pressure/schema/")
    assert response.status_code == 200
    schema = response.json()
    assert schema["name"] == "gas-pipeline-pressure"
    assert schema["primaryKey"] == ["point_id", "observed_at"]
    assert "暂无" in schema["missingValues"]
    fields = {f["name"]: f for f in schema["fields"]}
    assert fields["pressure"] == {
        "name": "pressure",
        "title": "管网压力",
        "type": "number",
        "unit": "MPa",
        "constraints": {"required": True, "minimum": 0.0, "maximum": 1.6},
        "grade": 1,
    }
    assert fields["observed_at"]["type"] == "datetime"
    assert fields["point_id"]["constraints"]["pattern"] == "^GP\\d{6}$"
    district_codes = fields["district"]["constraints"]["enum"]
    assert len(district_codes) == 16 and "310115" in district_codes
    assert fields["pressure_class"]["constraints"]["enum"] == ["低压", "中压B", "中压A", "次高压"]


def test_table_schema_of_hidden_resource_is_404(catalog, water_staff, client_for):
    response = client_for(water_staff).get("/api/v1/resources/public-security-incidents/schema/")
    assert response.status_code == 404


def test_dcat_catalog(catalog, water_staff, client_for):
    response = client_for(water_staff).get("/api/v1/catalog.jsonld")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    doc = response.json()
    assert doc["@type"] == "dcat:Catalog"
    assert doc["@context"]["dcat"] == "http://www.w3.org/ns/dcat#"
    datasets = {d["dct:identifier"]: d for d in doc["dcat:dataset"]}
    assert len(datasets) == 14 and "public-security-incidents" not in datasets
    gas = datasets["gas-pipeline-pressure"]
    assert gas["@id"] == "http://testserver/api/v1/resources/gas-pipeline-pressure/"
    assert gas["dct:publisher"]["foaf:name"] == "上海市住房和城乡建设管理委员会"
    assert gas["dct:accrualPeriodicity"]["@id"].endswith("/frequency/CONT")
    assert gas["dct:accessRights"]["@id"].endswith("/access-right/PUBLIC")
    distribution = gas["dcat:distribution"][0]
    assert distribution["dct:conformsTo"]["@id"].endswith("/gas-pipeline-pressure/schema/")
    assert datasets["fire-incidents"]["dct:accessRights"]["@id"].endswith("/RESTRICTED")


def test_openapi_schema_and_offline_docs(catalog, water_staff, client_for):
    client = client_for(water_staff)
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/resources/{code}/schema/" in paths
    assert "/api/v1/catalog.jsonld" in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in html
    assert "cdn" not in html.lower()
