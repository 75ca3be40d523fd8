using System.Text.Json;
using AgentCrm.Core.Platform.Observability;
using AgentCrm.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentCrm.Core.Tests.Platform;

public class JsonLineFormatterTests
{
    [Fact]
    public void Writes_one_flat_json_object_with_state_and_scopes_at_the_top_level()
    {
        var formatter = new JsonLineFormatter(new FakeTimeProvider());
        var scopes = new LoggerExternalScopeProvider();
        using var outer = scopes.Push(new Dictionary<string, object?> { ["RequestId"] = "from-kestrel", ["TraceId"] = "abc" });
        using var inner = scopes.Push(new Dictionary<string, object?> { ["RequestId"] = "ours" });
        var state = new Dictionary<string, object?> { ["Route"] = "/api/x/{id}", ["StatusCode"] = 200, ["DurationMs"] = 1.5, ["{OriginalFormat}"] = "fmt" };
        var entry = new LogEntry<Dictionary<string, object?>>(LogLevel.Information, "Cat", new EventId(7), state, null, (_, _) => "GET done");
        using var output = new StringWriter();

        formatter.Write(entry, scopes, output);

        var text = output.ToString();
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        Assert.Equal("2026-11-22T12:00:00.000Z", root.GetProperty("timestamp").GetString());
        Assert.Equal("Information", root.GetProperty("level").GetString());
        Assert.Equal("GET done", root.GetProperty("message").GetString());
        Assert.Equal("ours", root.GetProperty("requestId").GetString());
        Assert.Equal("abc", root.GetProperty("traceId").GetString());
        Assert.Equal("/api/x/{id}", root.GetProperty("route").GetString());
        Assert.Equal(200, root.GetProperty("statusCode").GetInt32());
        Assert.Equal(1.5, root.GetProperty("durationMs").GetDouble());
        Assert.False(root.TryGetProperty("{OriginalFormat}", out _));
    }

    [Fact]
    public void Exceptions_are_one_escaped_field()
    {
        var formatter = new JsonLineFormatter(new FakeTimeProvider());
        var entry = new LogEntry<string>(LogLevel.Error, "Cat", default, "s", new InvalidOperationException("boom\nline two"), (s, _) => s);
        using var output = new StringWriter();

        formatter.Write(entry, new LoggerExternalScopeProvider(), output);

        using var json = JsonDocument.Parse(output.ToString());
        Assert.Contains("boom\nline two", json.RootElement.GetProperty("exception").GetString(), StringComparison.Ordinal);
    }
}
