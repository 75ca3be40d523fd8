using AgentCrm.Functions.Access;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Platform;

/// <summary>Every error the pipeline can produce is an RFC 9457 problem with a documented type.</summary>
public class ProblemResponseTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(database: null,
        new() { ["Http:MaxRequestBodyBytes"] = "2048" },
        map: app =>
        {
            // Endpoints shaped like the API's will be: a typed JSON body, and bare status results.
            app.MapPost("/api/test/echo", (EchoBody body) => Results.Ok(body)).WithMetadata(AccessRule.Anonymous("POST", "/api/test/echo"));
            app.MapGet("/api/test/status/{code:int}", (int code) => Results.StatusCode(code)).WithMetadata(AccessRule.Anonymous("GET", "/api/test/status/{code:int}"));
        });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task An_unknown_route_is_a_404_problem()
    {
        var problem = await HttpAssert.ProblemAsync(await _app.Client.GetAsync("/api/no/such/thing"), HttpStatusCode.NotFound, "not-found");

        Assert.Equal("/api/no/such/thing", problem.GetProperty("instance").GetString());
    }

    [Fact]
    public async Task A_wrong_method_is_a_405_problem_with_allow()
    {
        var response = await _app.Client.DeleteAsync("/api/test/echo");

        await HttpAssert.ProblemAsync(response, HttpStatusCode.MethodNotAllowed, "method-not-allowed");
        Assert.Contains("POST", response.Content.Headers.Allow);
    }

    [Fact]
    public async Task A_declared_body_over_the_limit_is_a_413_problem_before_it_is_read()
    {
        var response = await _app.Client.PostAsync("/api/test/echo", Json(new string('x', 3000)));

        var problem = await HttpAssert.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
        Assert.Contains("limit is 2048 bytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_chunked_body_over_the_limit_is_a_413_problem()
    {
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"name\":\"" + new string('x', 5000) + "\"}")));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/test/echo") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        await HttpAssert.ProblemAsync(await _app.Client.SendAsync(request), HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData(null)]
    public async Task A_body_that_is_not_json_is_a_415_problem(string? contentType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("name=x"));
        if (contentType is not null)
        {
            content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        }

        var problem = await HttpAssert.ProblemAsync(await _app.Client.PostAsync("/api/test/echo", content), HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        Assert.Contains("application/json", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_json_suffix_media_type_is_accepted()
    {
        var content = new StringContent("{\"name\":\"ok\"}", Encoding.UTF8, "application/vnd.agentcrm+json");

        Assert.Equal(HttpStatusCode.OK, (await _app.Client.PostAsync("/api/test/echo", content)).StatusCode);
    }

    [Theory]
    [InlineData("{\"name\":")]
    [InlineData("not json at all")]
    [InlineData("{\"name\": 42}")]
    public async Task Malformed_json_is_a_400_problem_that_says_where(string body)
    {
        var problem = await HttpAssert.ProblemAsync(await _app.Client.PostAsync("/api/test/echo", Json(body, raw: true)), HttpStatusCode.BadRequest, "malformed-json");

        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("line 1", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_field_is_refused()
    {
        var problem = await HttpAssert.ProblemAsync(
            await _app.Client.PostAsync("/api/test/echo", Json("{\"name\":\"a\",\"nmae\":\"typo\"}", raw: true)), HttpStatusCode.BadRequest, "malformed-json");

        Assert.Contains("unknown field", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_duplicate_field_is_refused()
    {
        await HttpAssert.ProblemAsync(
            await _app.Client.PostAsync("/api/test/echo", Json("{\"name\":\"a\",\"name\":\"b\"}", raw: true)), HttpStatusCode.BadRequest, "malformed-json");
    }

    [Fact]
    public async Task An_unhandled_exception_is_a_500_problem_with_no_internals()
    {
        var response = await _app.Client.GetAsync("/api/_diagnostics/throw");
        var body = await response.Content.ReadAsStringAsync();

        var problem = await HttpAssert.ProblemAsync(response, HttpStatusCode.InternalServerError, "internal");
        Assert.Contains("traceId", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("do-not-leak", body, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", body, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", body, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Theory]
    [InlineData(401, "unauthorized")]
    [InlineData(403, "forbidden")]
    [InlineData(409, "conflict")]
    [InlineData(429, "rate-limited")]
    [InlineData(503, "unavailable")]
    public async Task A_bare_error_status_from_an_endpoint_becomes_a_problem(int status, string slug)
    {
        await HttpAssert.ProblemAsync(await _app.Client.GetAsync($"/api/test/status/{status}"), (HttpStatusCode)status, slug);
    }

    [Fact]
    public async Task A_well_formed_request_id_is_echoed_and_a_malformed_one_replaced()
    {
        var kept = await Send("order-42.retry:1");
        var replaced = await Send("bad id with spaces");
        var generated = await _app.Client.GetAsync("/api/health/live");

        Assert.Equal("order-42.retry:1", kept);
        Assert.Matches("^[0-9a-f]{32}$", replaced);
        Assert.Matches("^[0-9a-f]{32}$", generated.Headers.GetValues("X-Request-ID").Single());

        async Task<string> Send(string id)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/health/live");
            request.Headers.TryAddWithoutValidation("X-Request-ID", id);
            return (await _app.Client.SendAsync(request)).Headers.GetValues("X-Request-ID").Single();
        }
    }

    [Fact]
    public async Task A_w3c_traceparent_is_honoured()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/missing");
        request.Headers.Add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");

        var problem = await HttpAssert.ProblemAsync(await _app.Client.SendAsync(request), HttpStatusCode.NotFound, "not-found");

        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", problem.GetProperty("traceId").GetString());
    }

    [Fact]
    public async Task Responses_carry_security_headers()
    {
        var response = await _app.Client.GetAsync("/api/health/live");

        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.False(response.Headers.Contains("Server"));
    }

    private static StringContent Json(string value, bool raw = false) =>
        new(raw ? value : $"{{\"name\":\"{value}\"}}", Encoding.UTF8, "application/json");

    public sealed record EchoBody(string Name);
}
