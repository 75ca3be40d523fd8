using System.Text.Json;
using AgentCrm.Functions.CustomHandler;
using AgentCrm.Functions.Tests.Infrastructure;
using AgentCrm.Tests.Support;
using Microsoft.AspNetCore.Routing;

namespace AgentCrm.Functions.Tests.CustomHandler;

public class FunctionMetadataTests
{
    [Fact]
    public void The_committed_function_json_files_are_exactly_what_the_code_generates()
    {
        var committedRoot = RepoPaths.Path("src", "Functions", "FunctionApp");
        var generated = FunctionMetadata.Generate(HostFunctionCatalog.All);

        var committed = Directory.GetDirectories(committedRoot).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(generated.Keys.ToList(), committed);
        foreach (var (name, json) in generated)
        {
            var file = File.ReadAllText(Path.Combine(committedRoot, name, "function.json")).Replace("\r\n", "\n", StringComparison.Ordinal);
            Assert.True(json == file, $"{name}/function.json differs from the code: run `dotnet AgentCrm.Functions.dll functions-json --output src/Functions/FunctionApp`.");
        }
    }

    [Fact]
    public void The_http_function_is_an_anonymous_catch_all_with_no_extra_bindings()
    {
        using var json = JsonDocument.Parse(FunctionMetadata.Generate(HostFunctionCatalog.All)["Api"]);
        var bindings = json.RootElement.GetProperty("bindings").EnumerateArray().ToList();

        // Exactly one httpTrigger in and one http out, or the host stops forwarding requests as-is.
        Assert.Equal(2, bindings.Count);
        Assert.Equal("httpTrigger", bindings[0].GetProperty("type").GetString());
        Assert.Equal("anonymous", bindings[0].GetProperty("authLevel").GetString());
        Assert.Equal("{*path}", bindings[0].GetProperty("route").GetString());
        Assert.False(bindings[0].TryGetProperty("methods", out _));
        Assert.Equal("http", bindings[1].GetProperty("type").GetString());
    }

    [Fact]
    public async Task The_app_maps_a_post_endpoint_for_every_host_function_and_no_other_root_post()
    {
        await using var app = await TestApp.StartAsync(database: null);
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();

        var rootPosts = endpoints
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Contains("POST") == true)
            .Select(e => e.RoutePattern.RawText!)
            .Where(p => !p.StartsWith("/api", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

        Assert.Equal(HostFunctionCatalog.All.Select(f => "/" + f.Name).Order(StringComparer.Ordinal), rootPosts);
    }

    [Fact]
    public void Host_json_runs_the_app_as_a_custom_handler_with_forwarding()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(RepoPaths.Path("host.json")));
        var root = json.RootElement;
        var handler = root.GetProperty("customHandler");
        var description = handler.GetProperty("description");
        var arguments = description.GetProperty("arguments").EnumerateArray().Select(a => a.GetString()).ToList();

        Assert.Equal("2.0", root.GetProperty("version").GetString());
        Assert.Equal("dotnet", description.GetProperty("defaultExecutablePath").GetString());
        Assert.Equal(["AgentCrm.Functions.dll", "--urls", "http://127.0.0.1:%FUNCTIONS_CUSTOMHANDLER_PORT%"], arguments);
        Assert.True(handler.GetProperty("enableForwardingHttpRequest").GetBoolean());
        Assert.Equal("api", root.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());
        Assert.True(TimeSpan.TryParse(root.GetProperty("functionTimeout").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));
        Assert.True(root.GetProperty("logging").TryGetProperty("logLevel", out _));
    }
}
