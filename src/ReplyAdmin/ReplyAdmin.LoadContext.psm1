# A nested module, so PowerShell runs it before it loads the root module ReplyAdmin.dll. Importing a binary module
# reads all of its public types first, and some cmdlet base classes name engine types (GetSettingsCmdlet<T>), so
# ReplyAdmin.Engine must already resolve then: into the module's own load context, from dependencies/. The
# IModuleAssemblyInitializer that PowerShell runs after reading the types would come too late; this runs it first.
Set-StrictMode -Version Latest
$assembly = [System.Reflection.Assembly]::LoadFrom((Join-Path $PSScriptRoot 'ReplyAdmin.dll'))
$assembly.GetType('ReplyAdmin.Commands.ModuleInitializer', $true)::new().OnImport()
Export-ModuleMember
