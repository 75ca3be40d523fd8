using AgentCrm.Core.Platform.Problems;

namespace AgentCrm.Core.Contacts;

/// <summary>
/// Which contacts: a case-insensitive prefix of name or email (<see cref="Q"/>), a tag, a status. All
/// given parts must match; an empty filter matches every live contact. It is also a campaign's audience.
/// </summary>
public sealed record ContactFilter(string? Q = null, string? Tag = null, string? Status = null)
{
    public const int MaxQ = 200;

    /// <summary>The filter checked into <paramref name="errors"/> (field names after <paramref name="prefix"/>), with the tag normalized as stored.</summary>
    public ContactFilter Normalize(ValidationErrors errors, string prefix = "")
    {
        errors.Text(prefix + "q", Q, MaxQ);
        var tag = Tag is null ? null : ContactRules.Tag(errors, Tag, prefix + "tag");
        if (Status is not null)
        {
            ContactRules.Status(errors, Status, prefix + "status");
        }

        return new ContactFilter(string.IsNullOrEmpty(Q) ? null : Q, tag, Status);
    }

    /// <summary>
    /// The SQL condition on contacts aliased <c>c</c>, given SQL expressions for q, tag and status that
    /// may be NULL (parameters, or fields of a stored audience). Unprepared statements get a plan for the
    /// actual values, so the parts that are NULL fold away and the indexes still serve.
    /// </summary>
    internal static string Condition(string q, string tag, string status) => $"""
        ({q} IS NULL OR lower(c.name) LIKE app.like_prefix({q}) ESCAPE '\' OR lower(c.email) LIKE app.like_prefix({q}) ESCAPE '\')
        AND ({tag} IS NULL OR c.tags @> ARRAY[{tag}])
        AND ({status} IS NULL OR c.status = {status})
        """;
}
