using System.Buffers.Text;
using System.Globalization;
using System.Text;
using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Store;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Problems;

namespace AgentCrm.Core.Orchestrations;

/// <summary>Query-string filters of the list and purge endpoints, checked all at once into one validation problem.</summary>
public static class OrchestrationQueryParser
{
    public static InstanceQuery ParseQuery(
        string? runtimeStatus, string? name, string? createdTimeFrom, string? createdTimeTo, string? instanceIdPrefix, string? showInput, string? limit, string? cursor)
    {
        var errors = new ValidationErrors();
        var statuses = Statuses(errors, runtimeStatus);
        var from = Time(errors, "createdTimeFrom", createdTimeFrom);
        var to = Time(errors, "createdTimeTo", createdTimeTo);
        var withInput = Flag(errors, "showInput", showInput);
        var page = PageRequest.Parse(limit, null, errors);
        var after = cursor is null ? null : DecodeCursor(cursor);
        if (cursor is not null && after is null)
        {
            errors.Add("cursor", "is not a cursor this API gave out; use nextCursor from the previous page.");
        }

        if (instanceIdPrefix is { Length: > 256 })
        {
            errors.Add("instanceIdPrefix", "must be at most 256 characters.");
        }

        errors.ThrowIfAny();
        return new InstanceQuery(statuses, string.IsNullOrEmpty(name) ? null : name, from, to, string.IsNullOrEmpty(instanceIdPrefix) ? null : instanceIdPrefix,
            page.Limit, after, withInput);
    }

    /// <summary>As Durable Functions: createdTimeFrom is required, and only finished instances are purged.</summary>
    public static PurgeFilter ParsePurge(string? createdTimeFrom, string? createdTimeTo, string? runtimeStatus)
    {
        var errors = new ValidationErrors();
        var from = Time(errors, "createdTimeFrom", createdTimeFrom);
        if (createdTimeFrom is null)
        {
            errors.Add("createdTimeFrom", "is required: purge by filter deletes instances created from this time on.");
        }

        var to = Time(errors, "createdTimeTo", createdTimeTo);
        var statuses = Statuses(errors, runtimeStatus);
        if (statuses?.Where(s => !s.IsTerminal()).ToList() is { Count: > 0 } live)
        {
            errors.Add("runtimeStatus", $"may name only Completed, Failed and Terminated: a {live[0]} instance is never purged (terminate it first).");
        }

        errors.ThrowIfAny();
        return new PurgeFilter(statuses, from, to, null);
    }

    public static bool Flag(ValidationErrors errors, string field, string? value)
    {
        if (value is null)
        {
            return false;
        }

        if (bool.TryParse(value, out var flag))
        {
            return flag;
        }

        errors.Add(field, "must be true or false.");
        return false;
    }

    public static string EncodeCursor(OrchestrationMetadata last) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{last.CreatedAt.Ticks}:{last.InstanceId}")));

    private static (DateTime, string)? DecodeCursor(string cursor)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            return colon > 0 && long.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                && ticks <= DateTime.MaxValue.Ticks && colon < text.Length - 1
                ? (new DateTime(ticks, DateTimeKind.Utc), text[(colon + 1)..])
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static List<OrchestrationStatus>? Statuses(ValidationErrors errors, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var statuses = new List<OrchestrationStatus>();
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (Enum.TryParse<OrchestrationStatus>(part, ignoreCase: true, out var status) && Enum.IsDefined(status) && !int.TryParse(part, out _))
            {
                statuses.Add(status);
            }
            else
            {
                errors.Add("runtimeStatus", $"'{part}' is not a status; use {string.Join(", ", Enum.GetNames<OrchestrationStatus>())}, comma-separated.");
            }
        }

        return statuses;
    }

    private static DateTime? Time(ValidationErrors errors, string field, string? value)
    {
        if (value is null)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time.UtcDateTime;
        }

        errors.Add(field, "must be an ISO 8601 time, such as 2026-12-01T09:00:00Z.");
        return null;
    }
}
