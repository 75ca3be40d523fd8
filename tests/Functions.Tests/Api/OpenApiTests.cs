using System.Net;
using System.Text.Json;
using AgentCrm.Functions.Access;
using Microsoft.AspNetCore.Routing;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Api;

public sealed class OpenApiTests : IAsyncLifetime
{
    private TestApp _app = null!;
    private JsonElement _document;

    public async Task InitializeAsync()
    {
        _app = await TestApp.StartAsync(database: null, new() { ["Diagnostics:TestEndpoints"] = "false" });
        _document = await HttpAssert.JsonAsync(await _app.Client.GetAsync("/api/openapi/v1.json"), HttpStatusCode.OK);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private JsonElement Operation(string method, string route) =>
        _document.GetProperty("paths").TryGetProperty(route, out var path) && path.TryGetProperty(method.ToLowerInvariant(), out var operation)
            ? operation
            : throw new Xunit.Sdk.XunitException($"{method} {route} is not in the OpenAPI document");

    [Fact]
    public void Every_row_of_the_access_table_is_an_operation_in_the_document()
    {
        var missing = AccessRules.Table.Where(r => r.Route != "/api/openapi/{documentName}.json")
            .Where(r => !_document.GetProperty("paths").TryGetProperty(r.Route, out var path) || !path.TryGetProperty(r.Method.ToLowerInvariant(), out _))
            .Select(r => $"{r.Method} {r.Route}").ToList();

        Assert.True(missing.Count == 0, "Not in the document: " + string.Join(", ", missing));
    }

    [Fact]
    public void Every_mapped_api_route_has_a_row_in_the_access_table_and_the_table_names_no_route_that_is_not_mapped()
    {
        var mapped = _app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Where(m => m != "HEAD")
                .Select(m => (Method: m, Route: e.RoutePattern.RawText!.Length > 1 ? e.RoutePattern.RawText!.TrimEnd('/') : e.RoutePattern.RawText!)))
            .ToHashSet();
        var table = AccessRules.Table.Select(r => (r.Method, r.Route)).ToHashSet();

        Assert.Empty(mapped.Except(table));
        Assert.Empty(table.Except(mapped));
    }

    [Fact]
    public void Both_security_schemes_are_declared_and_protected_operations_require_them()
    {
        var schemes = _document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("bearer", schemes.GetProperty("bearer").GetProperty("scheme").GetString());
        Assert.Equal("X-Api-Key", schemes.GetProperty("apiKey").GetProperty("name").GetString());

        var createKey = Operation("POST", "/api/workspaces/{workspaceId}/api-keys");
        var required = createKey.GetProperty("security").EnumerateArray().SelectMany(s => s.EnumerateObject().Select(p => p.Name)).ToList();
        Assert.Equal(["bearer"], required); // API keys may not mint API keys
        Assert.Contains("admin role", createKey.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.False(Operation("POST", "/api/auth/login").TryGetProperty("security", out _));
    }

    [Fact]
    public void Rate_limited_operations_document_the_429_and_exempt_ones_do_not()
    {
        Assert.True(Operation("GET", "/api/contacts/{id}").GetProperty("responses").TryGetProperty("429", out _));
        Assert.Contains("\"auth\" rate limit", Operation("POST", "/api/auth/login").GetProperty("responses").GetProperty("429").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.False(Operation("GET", "/api/health").GetProperty("responses").TryGetProperty("429", out _));
    }

    [Fact]
    public void Problem_responses_are_described_as_problem_json()
    {
        var responses = Operation("POST", "/api/auth/register").GetProperty("responses");

        Assert.True(responses.GetProperty("409").GetProperty("content").TryGetProperty("application/problem+json", out _));
        Assert.True(responses.GetProperty("201").GetProperty("content").GetProperty("application/json").TryGetProperty("schema", out _));
    }
}
