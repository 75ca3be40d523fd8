using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace AgentCrm.Core.Platform.Observability;

/// <summary>
/// One flat JSON object per line on stdout: timestamp, level, category, message, then every structured
/// field and scope value at the top level (requestId, traceId, route, statusCode, durationMs…), so Log
/// Analytics and jq can filter on them directly. A later scope wins over an earlier one with the same
/// name, which lets the app's request id replace ASP.NET Core's connection-based one.
/// </summary>
public sealed class JsonLineFormatter(TimeProvider time) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "agentcrm-json";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }

        var fields = new Dictionary<string, object?>(StringComparer.Ordinal);
        scopeProvider?.ForEachScope(static (scope, fields) => Collect(scope, fields), fields);
        Collect(logEntry.State, fields);

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("timestamp", time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("level", logEntry.LogLevel.ToString());
            json.WriteString("category", logEntry.Category);
            if (logEntry.EventId.Id != 0)
            {
                json.WriteNumber("eventId", logEntry.EventId.Id);
            }

            json.WriteString("message", message);
            foreach (var (key, value) in fields)
            {
                json.WritePropertyName(key);
                WriteValue(json, value);
            }

            if (logEntry.Exception is { } exception)
            {
                json.WriteString("exception", exception.ToString());
            }

            json.WriteEndObject();
        }

        textWriter.Write(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        textWriter.Write('\n');
    }

    private static void Collect(object? state, Dictionary<string, object?> fields)
    {
        if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
        {
            foreach (var (key, value) in pairs)
            {
                Add(fields, key, value);
            }
        }
    }

    private static void Add(Dictionary<string, object?> fields, string key, object? value)
    {
        if (key.Length > 0 && key != "{OriginalFormat}")
        {
            fields[char.ToLowerInvariant(key[0]) + key[1..]] = value;
        }
    }

    private static void WriteValue(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null: json.WriteNullValue(); break;
            case string s: json.WriteStringValue(s); break;
            case bool b: json.WriteBooleanValue(b); break;
            case int i: json.WriteNumberValue(i); break;
            case long l: json.WriteNumberValue(l); break;
            case double d: json.WriteNumberValue(d); break;
            case float f: json.WriteNumberValue(f); break;
            case decimal m: json.WriteNumberValue(m); break;
            case DateTimeOffset dto: json.WriteStringValue(dto); break;
            case DateTime dt: json.WriteStringValue(dt); break;
            default: json.WriteStringValue(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)); break;
        }
    }
}
