using AgentCrm.Core.Platform.Security;
using AgentCrm.Core.Workspaces;
using Microsoft.Extensions.DependencyInjection;

namespace AgentCrm.Core.Identity;

/// <summary>Registers authentication, accounts, workspaces and API keys.</summary>
public static class IdentityServices
{
    public static IServiceCollection AddIdentityAndWorkspaces(this IServiceCollection services, AuthOptions options)
    {
        services.AddSingleton(options);
        services.AddHttpClient("oidc", client => client.Timeout = TimeSpan.FromSeconds(10));
        services.AddSingleton<AccessTokenCodec>();
        services.AddSingleton<ExternalTokenValidator>();
        services.AddSingleton<ExternalUsers>();
        services.AddSingleton<AccessCaches>();
        services.AddSingleton<ApiKeyUsage>();
        services.AddSingleton<ApiKeyAuthenticator>();
        services.AddSingleton<CallerAuthenticator>();
        services.AddSingleton<WorkspaceMembership>();
        services.AddSingleton<SessionTokens>();
        services.AddSingleton<AccountService>();
        services.AddSingleton<WorkspaceService>();
        services.AddSingleton<MemberService>();
        services.AddSingleton<InvitationService>();
        services.AddSingleton<ApiKeyService>();
        services.AddHostedService<AccessCacheWarmer>();
        return services;
    }
}
