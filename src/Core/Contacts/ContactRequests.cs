using AgentCrm.Core.Platform.Http;

namespace AgentCrm.Core.Contacts;

/// <summary>POST /api/contacts. Only <see cref="Email"/> is required; status defaults to active.</summary>
public sealed record NewContact(
    string? Email,
    string? Name = null,
    string? Phone = null,
    string? Company = null,
    string? Status = null,
    IReadOnlyList<string>? Tags = null);

/// <summary>
/// PATCH /api/contacts/{id}, merge-patch style: an absent field stays as it is, null clears a nullable
/// field (name, phone, company; tags become empty), a value replaces it.
/// </summary>
public sealed record ContactPatch(
    Optional<string> Email,
    Optional<string> Name,
    Optional<string> Phone,
    Optional<string> Company,
    Optional<string> Status,
    Optional<IReadOnlyList<string>> Tags);
