// Not built in this repository's CI (no Android SDK or NDK there): see README.md.
pluginManagement {
    repositories { google(); mavenCentral(); gradlePluginPortal() }
}
dependencyResolutionManagement {
    repositories { google(); mavenCentral() }
}
rootProject.name = "sotto-example"
include(":sotto-android", ":app")
