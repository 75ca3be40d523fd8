using Npgsql;

namespace AgentCrm.Core.Contacts;

/// <summary>A person in a workspace's CRM. <see cref="Version"/> is the ETag; it grows with every write.</summary>
public sealed record Contact(
    Guid Id,
    string Email,
    string? Name,
    string? Phone,
    string? Company,
    string Status,
    IReadOnlyList<string> Tags,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    int Version)
{
    /// <summary>The columns <see cref="Read"/> expects, in order.</summary>
    internal const string Columns = "id, email, name, phone, company, status, tags, created_at, updated_at, version";

    internal static Contact Read(NpgsqlDataReader reader) => new(
        reader.GetGuid(0),
        reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        reader.IsDBNull(3) ? null : reader.GetString(3),
        reader.IsDBNull(4) ? null : reader.GetString(4),
        reader.GetString(5),
        reader.GetFieldValue<string[]>(6),
        reader.GetFieldValue<DateTimeOffset>(7),
        reader.GetFieldValue<DateTimeOffset>(8),
        reader.GetInt32(9));
}

public static class ContactStatuses
{
    public const string Active = "active";
    public const string Unsubscribed = "unsubscribed";
    public const string Bounced = "bounced";
    public const string Archived = "archived";

    public static IReadOnlyList<string> All { get; } = [Active, Unsubscribed, Bounced, Archived];

    public static bool IsValid(string? status) => status is not null && All.Contains(status, StringComparer.Ordinal);
}
