using AgentCrm.Core.Contacts;
using AgentCrm.Core.Platform.Http;

namespace AgentCrm.Core.Campaigns;

/// <summary>POST /api/campaigns: a new draft. No audience means every live contact.</summary>
public sealed record NewCampaign(string? Name, string? Subject, string? Body, ContactFilter? Audience = null);

/// <summary>PATCH /api/campaigns/{id}: absent fields stay; none of these may be null. Status and schedule change only by transitions.</summary>
public sealed record CampaignPatch(
    Optional<string> Name,
    Optional<string> Subject,
    Optional<string> Body,
    Optional<ContactFilter> Audience);

/// <summary>POST /api/campaigns/{id}/transitions: <see cref="ScheduledAt"/> is required with, and only with, to = scheduled.</summary>
public sealed record CampaignTransition(string? To, DateTimeOffset? ScheduledAt = null);
