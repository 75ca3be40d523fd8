using System.Text.Json;
using AgentCrm.Core.Platform.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AgentCrm.Core.Platform.Health;

/// <summary>Writes a health report as JSON: overall status, then each check with its status, duration and description.</summary>
public static class HealthReportWriter
{
    public static Task WriteAsync(HttpContext context, HealthReport report) => WriteAsync(context, report, app: null, time: null);

    public static async Task WriteAsync(HttpContext context, HealthReport report, AppInfo? app, TimeProvider? time)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await using var json = new Utf8JsonWriter(context.Response.BodyWriter);
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteNumber("durationMs", Math.Round(report.TotalDuration.TotalMilliseconds, 3));
        if (app is not null && time is not null)
        {
            json.WriteString("version", app.Version);
            json.WriteString("commit", app.Commit);
            json.WriteString("environment", app.Environment);
            json.WriteString("slot", app.Slot);
            json.WriteString("instance", app.Instance);
            json.WriteString("startedAt", app.StartedAt);
            json.WriteNumber("uptimeSeconds", Math.Round((time.GetUtcNow() - app.StartedAt).TotalSeconds));
        }

        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", entry.Status.ToString());
            json.WriteNumber("durationMs", Math.Round(entry.Duration.TotalMilliseconds, 3));
            if (entry.Description is not null)
            {
                json.WriteString("description", entry.Description);
            }

            if (entry.Data.Count > 0)
            {
                json.WritePropertyName("data");
                JsonSerializer.Serialize(json, entry.Data);
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }
}
