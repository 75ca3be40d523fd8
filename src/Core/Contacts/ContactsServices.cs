using Microsoft.Extensions.DependencyInjection;

namespace AgentCrm.Core.Contacts;

/// <summary>Registers contacts, campaigns and the dashboard (the CRM features).</summary>
public static class ContactsServices
{
    public static IServiceCollection AddCrm(this IServiceCollection services)
    {
        services.AddSingleton<ContactStore>();
        services.AddSingleton<ContactCache>();
        services.AddSingleton<ContactService>();
        services.AddSingleton<Campaigns.CampaignStore>();
        services.AddSingleton<Campaigns.CampaignService>();
        services.AddSingleton<Dashboard.DashboardService>();
        services.AddSingleton<Demo.DemoSeeder>();
        return services;
    }
}
