using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Platform;

public class ObservabilityTests
{
    [Fact]
    public async Task Request_duration_is_recorded_per_route()
    {
        var routes = new ConcurrentBag<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Microsoft.AspNetCore.Hosting" && instrument.Name == "http.server.request.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "http.route" && value >= 0)
                {
                    routes.Add((string)tag.Value!);
                }
            }
        });
        listener.Start();
        await using var app = await TestApp.StartAsync(database: null);

        await app.Client.GetAsync("/api/health/live");
        await app.Client.GetAsync("/api/health/live");

        Assert.Contains("/api/health/live", routes);
    }

    [Fact]
    public async Task Spans_for_requests_and_postgres_are_exported_over_otlp()
    {
        await using var collector = await FakeOtlpCollector.StartAsync();
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        var app = await TestApp.StartAsync(db, new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "agentcrm-test",
        });

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/health/ready"))
        {
            request.Headers.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
            Assert.Equal(HttpStatusCode.OK, (await app.Client.SendAsync(request)).StatusCode);
        }

        await app.DisposeAsync(); // disposing the providers flushes the batch

        var traces = collector.Received("/v1/traces");
        Assert.NotEmpty(traces);
        var payload = Encoding.Latin1.GetString([.. traces.SelectMany(b => b)]);
        Assert.Contains("agentcrm-test", payload, StringComparison.Ordinal);
        Assert.Contains("GET /api/health/ready", payload, StringComparison.Ordinal);
        Assert.Contains("Npgsql", payload, StringComparison.Ordinal);
        // The caller's trace id travels in the spans (protobuf carries it as 16 raw bytes).
        Assert.Contains(Encoding.Latin1.GetString(Convert.FromHexString("0af7651916cd43dd8448eb211c80319c")), payload, StringComparison.Ordinal);
    }

    /// <summary>An OTLP/HTTP receiver on loopback that records what it is sent.</summary>
    private sealed class FakeOtlpCollector : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<(string Path, byte[] Body)> _requests = new();

        private FakeOtlpCollector(WebApplication app) => _app = app;

        public string Endpoint => _app.Urls.First();

        public static async Task<FakeOtlpCollector> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var collector = new FakeOtlpCollector(app);
            app.MapPost("/v1/{signal}", async (HttpContext context) =>
            {
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                collector._requests.Enqueue((context.Request.Path, body.ToArray()));
                context.Response.ContentType = "application/x-protobuf";
            });
            await app.StartAsync();
            return collector;
        }

        public IReadOnlyList<byte[]> Received(string path) => [.. _requests.Where(r => r.Path == path).Select(r => r.Body)];

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
