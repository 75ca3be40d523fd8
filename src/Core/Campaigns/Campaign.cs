using System.Text.Json;
using AgentCrm.Core.Contacts;
using Npgsql;

namespace AgentCrm.Core.Campaigns;

/// <summary>An email campaign to the contacts its <see cref="Audience"/> filter matches. <see cref="Version"/> is the ETag.</summary>
public sealed record Campaign(
    Guid Id,
    string Name,
    string Subject,
    string Body,
    string Status,
    ContactFilter Audience,
    DateTimeOffset? ScheduledAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    int Version)
{
    internal const string Columns = "id, name, subject, body, status, audience, scheduled_at, created_at, updated_at, version";

    internal static Campaign Read(NpgsqlDataReader reader) => new(
        reader.GetGuid(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetString(3),
        reader.GetString(4),
        JsonSerializer.Deserialize<ContactFilter>(reader.GetString(5), JsonSerializerOptions.Web) ?? new ContactFilter(),
        reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6),
        reader.GetFieldValue<DateTimeOffset>(7),
        reader.GetFieldValue<DateTimeOffset>(8),
        reader.GetInt32(9));

    internal string AudienceJson() => JsonSerializer.Serialize(Audience, JsonSerializerOptions.Web);
}

/// <summary>What a campaign's audience is now: how many, and the newest few.</summary>
public sealed record CampaignAudience(long Count, IReadOnlyList<AudienceMember> Sample);

public sealed record AudienceMember(Guid Id, string Email, string? Name);

public sealed record AudienceCount(long Count);
