"""Each cloud's price source on recorded answers: parsing, paging, a type the API does not price, failures."""

from __future__ import annotations

import boto3
import pytest
import requests
import responses
from botocore.stub import ANY, Stubber
from recorded import aws_product, azure_item, azure_page, gcp_sku, spot_entry
from responses import matchers

from clusterdb_nb import catalog
from clusterdb_nb.catalog import aws_prices, azure_prices, gcp_prices
from clusterdb_nb.errors import AuthenticationError, NetworkError, ProviderError


# -- AWS -----------------------------------------------------------------------------------------------------
class StubbedSession:
    """A boto3 session whose clients are stubbed (botocore Stubber): no request leaves the process."""

    def __init__(self) -> None:
        real = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
        self.clients = {
            ("pricing", "us-east-1"): real.client("pricing", region_name="us-east-1"),
            ("ec2", "us-east-1"): real.client("ec2", region_name="us-east-1"),
            ("ec2", "eu-west-1"): real.client("ec2", region_name="eu-west-1"),
        }
        self.stubs = {key: Stubber(c) for key, c in self.clients.items()}
        for stub in self.stubs.values():
            stub.activate()

    def client(self, name: str, region_name: str):
        return self.clients[(name, region_name)]

    def products(self, region: str, pages: list[list[str]]) -> None:
        for i, page in enumerate(pages):
            params = {"ServiceCode": "AmazonEC2", "Filters": aws_prices.filters(region), "FormatVersion": "aws_v1"}
            if i:
                params["NextToken"] = f"page-{i}"
            body = {"FormatVersion": "aws_v1", "PriceList": page}
            if i < len(pages) - 1:
                body["NextToken"] = f"page-{i + 1}"
            self.stubs[("pricing", "us-east-1")].add_response("get_products", body, params)

    def spot(self, region: str, types: list[str], history: list[dict]) -> None:
        params = {"InstanceTypes": types, "ProductDescriptions": ["Linux/UNIX"], "StartTime": ANY}
        self.stubs[("ec2", region)].add_response("describe_spot_price_history", {"SpotPriceHistory": history}, params)

    def done(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


def test_aws_parser_keeps_linux_shared_on_demand_hourly_only():
    price_list = [
        aws_product("m5.large", "us-east-1", "0.0970000000"),
        aws_product("m5.large", "us-east-1", "0.1880000000", operatingSystem="Windows"),
        aws_product("m5.large", "us-east-1", "0.0970000000", capacitystatus="UnusedCapacityReservation"),
        aws_product("m5.large", "us-east-1", "0.1100000000", preInstalledSw="SQL Web"),
        aws_product("m5.large", "us-east-1", "0.2000000000", tenancy="Dedicated"),
        aws_product("x9.huge", "us-east-1", "9.0000000000"),  # not in the catalog
    ]
    found = aws_prices.parse_products(price_list, {("m5.large", "us-east-1"), ("t3.micro", "us-east-1")})
    assert found == {("m5.large", "us-east-1"): 0.097}  # the Reserved term's 0.001 is not on-demand


def test_aws_spot_is_the_median_of_each_zones_latest_price():
    history = [
        spot_entry("m5.large", "us-east-1a", "0.0300"),
        spot_entry("m5.large", "us-east-1a", "0.0900", minutes_ago=90),  # older: ignored
        spot_entry("m5.large", "us-east-1b", "0.0400"),
        spot_entry("m5.large", "us-east-1c", "0.0500"),
    ]
    assert aws_prices.parse_spot(history, "us-east-1") == {("m5.large", "us-east-1"): 0.04}


def test_aws_fetch_follows_pages_and_leaves_out_a_type_it_does_not_price():
    session = StubbedSession()
    session.products(
        "us-east-1",
        [[aws_product("m5.large", "us-east-1", "0.0970000000")], [aws_product("c5.large", "us-east-1", "0.0860000000")]],
    )
    session.spot("us-east-1", ["m5.large", "c5.large", "t3.micro"], [spot_entry("m5.large", "us-east-1a", "0.0351")])
    quotes = aws_prices.fetch({"us-east-1": ["m5.large", "c5.large", "t3.micro"]}, session=session)
    session.done()
    assert quotes.on_demand == {("m5.large", "us-east-1"): 0.097, ("c5.large", "us-east-1"): 0.086}
    assert quotes.spot == {("m5.large", "us-east-1"): 0.0351}
    assert quotes.spot_note == "live"


def test_aws_spot_refused_keeps_the_snapshot_spot_and_says_so():
    session = StubbedSession()
    session.products("eu-west-1", [[aws_product("m5.large", "eu-west-1", "0.1070000000")]])
    session.stubs[("ec2", "eu-west-1")].add_client_error(
        "describe_spot_price_history",
        service_error_code="UnauthorizedOperation",
        service_message="not allowed",
        http_status_code=403,
    )
    quotes = aws_prices.fetch({"eu-west-1": ["m5.large"]}, session=session)
    assert quotes.on_demand == {("m5.large", "eu-west-1"): 0.107} and quotes.spot == {}
    assert quotes.spot_note.startswith("kept the snapshot's spot prices") and "eu-west-1" in quotes.spot_note


def test_aws_pricing_refused_is_an_authentication_error():
    session = StubbedSession()
    session.stubs[("pricing", "us-east-1")].add_client_error(
        "get_products", service_error_code="AccessDeniedException", service_message="no pricing:GetProducts", http_status_code=400
    )
    with pytest.raises(AuthenticationError) as info:
        aws_prices.fetch({"us-east-1": ["m5.large"]}, session=session)
    assert info.value.provider == "aws" and info.value.operation == "catalog.refresh"


# -- Google Cloud ---------------------------------------------------------------------------------------------
US = ["us-central1"]


def gcp_rates_skus() -> list[dict]:
    return [
        gcp_sku("N2 Instance Core running in Americas", US, 0.0332),
        gcp_sku("N2 Instance Ram running in Americas", US, 0.0045),
        gcp_sku("Spot Preemptible N2 Instance Core running in Americas", US, 0.008, usage="Preemptible"),
        gcp_sku("Spot Preemptible N2 Instance Ram running in Americas", US, 0.001, usage="Preemptible"),
        gcp_sku("N2 Instance Core running in EMEA", ["europe-west1"], 0.0400),
        gcp_sku("N2 Custom Instance Core running in Americas", US, 0.9),  # custom shapes: not predefined prices
        gcp_sku("Commitment v1: N2 Cpu in Americas for 1 Year", US, 0.02, usage="Commit1Yr"),
        gcp_sku("N2D AMD Instance Core running in Americas", US, 0.0289),
        gcp_sku("N2D AMD Instance Ram running in Americas", US, 0.0039),
        gcp_sku("E2 Instance Core running in Americas", US, 0.021811),
        gcp_sku("E2 Instance Ram running in Americas", US, 0.002923),
        gcp_sku("A2 Instance Core running in Americas", US, 0.031611),
        gcp_sku("A2 Instance Ram running in Americas", US, 0.004237),
        gcp_sku("Nvidia Tesla A100 GPU running in Americas", US, 2.933908, group="GPU"),
    ]


def test_gcp_type_price_is_vcpus_times_core_plus_gib_times_ram():
    rates = gcp_prices.parse_rates(gcp_rates_skus(), set(US))
    n2 = catalog.lookup("n2-standard-2", "us-central1")
    assert gcp_prices.price(n2, rates, spot=False) == pytest.approx(2 * 0.0332 + 8 * 0.0045)
    assert gcp_prices.price(n2, rates, spot=True) == pytest.approx(2 * 0.008 + 8 * 0.001)
    n2d = catalog.lookup("n2d-standard-2", "us-central1")
    assert gcp_prices.price(n2d, rates, spot=False) == pytest.approx(2 * 0.0289 + 8 * 0.0039)  # not N2's rates


def test_gcp_shared_core_bills_a_fraction_of_a_vcpu_and_gpu_types_add_their_gpu():
    rates = gcp_prices.parse_rates(gcp_rates_skus(), set(US))
    micro = catalog.lookup("e2-micro", "us-central1")
    assert gcp_prices.price(micro, rates, spot=False) == pytest.approx(micro.on_demand_usd, abs=1e-6)  # 0.25 vCPU + 1 GiB
    a100 = catalog.lookup("a2-highgpu-1g", "us-central1")
    assert gcp_prices.price(a100, rates, spot=False) == pytest.approx(a100.on_demand_usd, abs=1e-6)
    assert gcp_prices.price(catalog.lookup("c2-standard-4", "us-central1"), rates, spot=False) is None  # no C2 SKUs


@responses.activate
def test_gcp_fetch_pages_with_the_key_in_a_header_and_leaves_out_unpriced_types():
    skus = gcp_rates_skus()
    key_header = matchers.header_matcher({"X-goog-api-key": "test-key-123"})
    responses.get(
        gcp_prices.SKUS_URL,
        json={"skus": skus[:5], "nextPageToken": "next-1"},
        match=[matchers.query_param_matcher({"currencyCode": "USD", "pageSize": "5000"}), key_header],
    )
    responses.get(
        gcp_prices.SKUS_URL,
        json={"skus": skus[5:], "nextPageToken": ""},
        match=[matchers.query_param_matcher({"currencyCode": "USD", "pageSize": "5000", "pageToken": "next-1"}), key_header],
    )
    wanted = {"us-central1": [catalog.lookup(n, "us-central1") for n in ("n2-standard-4", "e2-standard-2", "t2a-standard-1")]}
    quotes = gcp_prices.fetch(wanted, api_key="test-key-123")
    assert set(quotes.on_demand) == {("n2-standard-4", "us-central1"), ("e2-standard-2", "us-central1")}
    assert quotes.on_demand[("n2-standard-4", "us-central1")] == pytest.approx(4 * 0.0332 + 16 * 0.0045)
    assert set(quotes.spot) == {("n2-standard-4", "us-central1")}  # no E2 spot SKUs recorded
    assert all("test-key-123" not in call.request.url for call in responses.calls)


def test_gcp_without_key_or_credentials_says_how_to_get_one(monkeypatch):
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    def no_credentials(**kw):
        raise DefaultCredentialsError("none")

    monkeypatch.delenv(gcp_prices.API_KEY_ENV, raising=False)
    monkeypatch.setattr(google.auth, "default", no_credentials)
    with pytest.raises(AuthenticationError) as info:
        gcp_prices.fetch({"us-central1": [catalog.lookup("n2-standard-2", "us-central1")]})
    assert gcp_prices.API_KEY_ENV in info.value.solution


@responses.activate
def test_gcp_refused_key_is_an_authentication_error():
    responses.get(gcp_prices.SKUS_URL, status=403, json={"error": {"code": 403, "message": "API key not valid"}})
    with pytest.raises(AuthenticationError, match="HTTP 403"):
        gcp_prices.fetch({"us-central1": [catalog.lookup("n2-standard-2", "us-central1")]}, api_key="bad-key-0000")


# -- Azure ----------------------------------------------------------------------------------------------------
DSV3 = "Virtual Machines DSv3 Series"


def test_azure_parser_picks_linux_payg_and_spot_newest_meter():
    items = [
        azure_item("Standard_D2s_v3", "eastus", 0.096, "D2s v3", DSV3, start="2024-01-01T00:00:00Z"),
        azure_item("Standard_D2s_v3", "eastus", 0.099, "D2s v3", DSV3, start="2026-12-01T00:00:00Z"),
        azure_item("Standard_D2s_v3", "eastus", 0.188, "D2s v3", DSV3 + " Windows"),
        azure_item("Standard_D2s_v3", "eastus", 0.0211, "D2s v3 Spot", DSV3),
        azure_item("Standard_D2s_v3", "eastus", 0.0192, "D2s v3 Low Priority", DSV3),
    ]
    on_demand, spot = azure_prices.parse_items(items)
    assert on_demand == {("Standard_D2s_v3", "eastus"): 0.099}
    assert spot == {("Standard_D2s_v3", "eastus"): 0.0211}


@responses.activate
def test_azure_fetch_follows_next_page_link_and_leaves_out_a_type_with_no_meters():
    next_link = azure_prices.PRICES_URL + "?api-version=2023-01-01-preview&$skip=100"
    responses.get(
        azure_prices.PRICES_URL,
        json=azure_page([azure_item("Standard_D2s_v3", "eastus", 0.099, "D2s v3", DSV3)], next_link),
        match=[matchers.query_param_matcher(azure_prices.query("eastus", "Standard_D2s_v3"))],
    )
    responses.get(
        azure_prices.PRICES_URL,
        json=azure_page([azure_item("Standard_D2s_v3", "eastus", 0.0209, "D2s v3 Spot", DSV3)]),
        match=[matchers.query_param_matcher({"api-version": "2023-01-01-preview", "$skip": "100"})],
    )
    responses.get(
        azure_prices.PRICES_URL,
        json=azure_page([]),
        match=[matchers.query_param_matcher(azure_prices.query("eastus", "Standard_B1s"))],
    )
    quotes = azure_prices.fetch({"eastus": ["Standard_D2s_v3", "Standard_B1s"]})
    assert quotes.on_demand == {("Standard_D2s_v3", "eastus"): 0.099}
    assert quotes.spot == {("Standard_D2s_v3", "eastus"): 0.0209}
    assert len(responses.calls) == 3


@responses.activate
def test_azure_unreachable_is_a_network_error_and_a_server_error_a_provider_error():
    responses.get(azure_prices.PRICES_URL, body=requests.exceptions.ConnectionError("no route"))
    with pytest.raises(NetworkError):
        azure_prices.fetch({"eastus": ["Standard_B1s"]})
    responses.replace(responses.GET, azure_prices.PRICES_URL, status=500, body="oops")
    with pytest.raises(ProviderError, match="HTTP 500"):
        azure_prices.fetch({"eastus": ["Standard_B1s"]})


@responses.activate
def test_azure_answer_of_an_unexpected_shape_is_a_provider_error():
    responses.get(
        azure_prices.PRICES_URL,
        json=azure_page(
            [{**azure_item("Standard_B1s", "eastus", 0.0104, "B1s", "Virtual Machines BS Series"), "retailPrice": "n/a"}]
        ),
    )
    with pytest.raises(ProviderError, match="unexpected shape"):
        azure_prices.fetch({"eastus": ["Standard_B1s"]})


@responses.activate
def test_gcp_without_a_key_uses_application_default_credentials(monkeypatch):
    import google.auth
    from google.oauth2.credentials import Credentials

    scopes_seen: list[str] = []

    def default(scopes=None, **kw):
        scopes_seen.extend(scopes or [])
        return Credentials(token="ya29.test-token"), "proj"

    monkeypatch.delenv(gcp_prices.API_KEY_ENV, raising=False)
    monkeypatch.setattr(google.auth, "default", default)
    responses.get(
        gcp_prices.SKUS_URL,
        json={"skus": gcp_rates_skus()},
        match=[matchers.header_matcher({"authorization": "Bearer ya29.test-token"})],
    )
    quotes = gcp_prices.fetch({"us-central1": [catalog.lookup("n2-standard-2", "us-central1")]})
    assert quotes.on_demand == {("n2-standard-2", "us-central1"): pytest.approx(2 * 0.0332 + 8 * 0.0045)}
    assert scopes_seen == [gcp_prices.SCOPE]
